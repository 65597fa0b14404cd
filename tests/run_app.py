"""A program run under ``apirec run`` by test_servers_run.py: it calls the real openai client
against the loopback fake (``FAKE_OPENAI_URL``) and prints one JSON line per answer.

    python run_app.py chat TEXT...          one chat call per TEXT
    python run_app.py children TEXT         TEXT from a subprocess and a multiprocessing
                                            (spawn) child, each a Python process of its own
    python run_app.py hang TEXT             answer TEXT, print "waiting", sleep until killed
    python run_app.py stream-hang TEXT      read one chunk of a stream, print "waiting", sleep
    python run_app.py then-child TEXT       answer TEXT, then a subprocess answers it again
    python run_app.py stream TEXT           a streamed answer, read to its end
    python run_app.py as-test TEST TEXT     the call inside apirec.test_context(TEST)
    python run_app.py exit CODE TEXT        answer TEXT, then exit with CODE
    python run_app.py parallel N TEXT       N subprocesses at once, each answering 4 texts
    python run_app.py forked N TEXT         TEXT, then N forked children at once, 4 texts each
    python run_app.py raw                   GET FAKE_OPENAI_URL/models with plain httpx
    python run_app.py each TEXT...          one chat call per TEXT, each error printed, not raised

An error a call raises is printed as ``{"error": type, "message": first line}`` (exit 1).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import time
from typing import Any

import openai


def client() -> openai.OpenAI:
    return openai.OpenAI(base_url=os.environ["FAKE_OPENAI_URL"], max_retries=0)


def say(**fields: Any) -> None:
    # one write per line: processes writing to one pipe at once never mix their lines
    os.write(1, (json.dumps(fields) + "\n").encode())


def chat(text: str) -> str:
    reply = client().chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": text}]
    )
    return reply.choices[0].message.content or ""


def answer(text: str) -> None:
    say(pid=os.getpid(), text=text, answer=chat(text))


def chat_all(texts: list[str]) -> None:  # a forked child's target
    for text in texts:
        answer(text)


def spawned(text: str) -> None:  # the multiprocessing child's target
    answer(text)


def main(argv: list[str]) -> int:
    what, *rest = argv
    if what == "chat":
        for text in rest:
            answer(text)
    elif what == "children":
        text = rest[0]
        subprocess.run([sys.executable, __file__, "chat", f"{text} from a subprocess"], check=True)
        child = multiprocessing.get_context("spawn").Process(
            target=spawned, args=(f"{text} from a spawned child",)
        )
        child.start()
        child.join()
        return child.exitcode or 0
    elif what in ("hang", "stream-hang"):
        if what == "hang":
            answer(rest[0])
        else:
            stream = client().chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": rest[0]}], stream=True
            )
            first = next(iter(stream))
            say(first=first.choices[0].delta.content)
        say(waiting=True)
        while True:
            time.sleep(1)
    elif what == "then-child":
        answer(rest[0])
        subprocess.run([sys.executable, __file__, "chat", rest[0]], check=True)
    elif what == "stream":
        stream = client().chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": rest[0]}], stream=True
        )
        words = [c.choices[0].delta.content or "" for c in stream if c.choices]
        say(pid=os.getpid(), text=rest[0], answer="".join(words))
    elif what == "as-test":
        import apirec

        with apirec.test_context(rest[0]):
            answer(rest[1])
    elif what == "parallel":
        n, text = int(rest[0]), rest[1]
        texts = [[f"{text} {i}.{j}" for j in range(4)] for i in range(n)]
        procs = [subprocess.Popen([sys.executable, __file__, "chat", *t]) for t in texts]
        return max(p.wait() for p in procs)
    elif what == "forked":
        n, text = int(rest[0]), rest[1]
        answer(text)  # the store's file is open in this process before it forks
        fork = multiprocessing.get_context("fork")
        kids = [
            fork.Process(target=chat_all, args=([f"{text} {i}.{j}" for j in range(4)],))
            for i in range(n)
        ]
        for kid in kids:
            kid.start()
        for kid in kids:
            kid.join()
        return max(kid.exitcode or 0 for kid in kids)
    elif what == "each":
        for text in rest:
            try:
                answer(text)
            except Exception as e:
                say(error=type(e).__name__, message=str(e).splitlines()[0])
    elif what == "raw":
        import httpx

        say(status=httpx.get(os.environ["FAKE_OPENAI_URL"] + "/models").status_code)
    elif what == "exit":
        answer(rest[1])
        return int(rest[0])
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Exception as e:
        say(error=type(e).__name__, message=str(e).splitlines()[0])
        sys.exit(1)
