"""``scrub=``: the user's patterns and callables, applied by the write gate to requests,
keys and answers, on ``recording()``, ``@record``, ``rec.patch``, the marker and the ini."""

from __future__ import annotations

import pytest

import apirec
import apirec.integrations
from tests.plugin_helpers import setup, stored

ACCOUNT = r"acct_[0-9a-f]{12}"


@apirec.record(name="scrub.balance")
def balance(account: str) -> dict[str, str]:
    return {"account": account, "balance": "12.50"}


@apirec.record(name="scrub.own", scrub=[ACCOUNT])
def own_balance(account: str) -> dict[str, str]:
    return {"account": account, "balance": "3.00"}


def store_bytes(root) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


@pytest.mark.parametrize("where", ["recording", "record", "patch"])
def test_two_account_ids_are_one_call_and_neither_is_stored(tmp_path, where):
    first, second = "acct_0123456789ab", "acct_ba9876543210"
    options = {"scrub": [ACCOUNT]} if where == "recording" else {}
    with apirec.recording(tmp_path, mode="record", **options) as rec:
        if where == "patch":
            rec.patch("tests.test_gate_scrub.balance", scrub=[ACCOUNT])
        function = own_balance if where == "record" else globals()["balance"]
        live = function(first)
    assert live["account"] == first  # the caller gets the live answer
    data = store_bytes(tmp_path)
    assert first.encode() not in data and b"<redacted>" in data
    with apirec.recording(tmp_path, mode="replay", **options) as rec:
        if where == "patch":
            rec.patch("tests.test_gate_scrub.balance", scrub=[ACCOUNT])
        function = own_balance if where == "record" else globals()["balance"]
        replayed = function(second)  # another account: the same call
    assert rec.stats.replayed == 1 and replayed["account"] == "<redacted>"


def test_a_callable_rule_and_bad_rules(tmp_path):
    with apirec.recording(tmp_path, mode="record", scrub=[lambda s: s.replace("12.50", "0")]):
        balance("acct_x")
    assert b"12.50" not in store_bytes(tmp_path)
    with pytest.raises(ValueError, match="not a valid regular expression"):
        apirec.recording(tmp_path, scrub=["acct_[0-9"])
    with pytest.raises(TypeError, match="a list"):
        apirec.recording(tmp_path, scrub=ACCOUNT)


def test_marker_and_ini_rules_add_up(pytester):
    setup(pytester, ini_extra="apirec_scrub =\n    acct_[0-9a-f]{12}")
    pytester.makepyfile(
        test_it="""
        import pytest
        from provider import add

        @pytest.mark.apirec(scrub=[r"order-[0-9]+"])
        def test_both():
            add("acct_0123456789ab order-77", "")
        """
    )
    result = pytester.runpytest("--apirec-mode=record")
    result.assert_outcomes(passed=1)
    text = str(stored(pytester.path / "recordings"))
    assert "acct_0123456789ab" not in text and "order-77" not in text
    assert "<redacted> <redacted>" in text


def test_integrations_patch_takes_scrub_rules(openai_server, store_dir, closed_url):
    import openai

    def ask(base_url: str, account: str) -> str:
        with openai.OpenAI(base_url=base_url, api_key="k", max_retries=0) as client:
            answer = client.chat.completions.create(
                model="gpt-test", messages=[{"role": "user", "content": f"bill {account}"}]
            )
        return str(answer.choices[0].message.content)

    with apirec.recording(store_dir, mode="record") as rec:
        apirec.integrations.patch(rec, "openai", scrub=[ACCOUNT])
        assert ask(openai_server.base_url, "acct_0123456789ab").endswith("acct_0123456789ab")
    assert b"acct_0123456789ab" not in store_bytes(store_dir)
    with apirec.recording(store_dir, mode="replay") as rec:
        apirec.integrations.patch(rec, "openai", scrub=[ACCOUNT])
        assert ask(closed_url, "acct_ba9876543210") == "You said: bill <redacted>"


RULED = {  # (answer, what replay gives): a rule reaches dict keys and binary bytes too
    "dict_key": ({"balances": {"acct_0123456789ab": 12.5, "acct_ba9876543210": 3.0}},
                 {"balances": {"<redacted>": 12.5, "<redacted:2>": 3.0}}),
    "header_name": ({"headers": {"acct_0123456789ab": "1"}}, {"headers": {"<redacted>": "1"}}),
    "binary_bytes": (b"\x89PNG\r\n\x1a\n\xffacct_0123456789ab", b"\x89PNG\r\n\x1a\n\xff<redacted>"),
    "text_bytes": (b"owner acct_0123456789ab", b"owner <redacted>"),
}  # fmt: skip


@apirec.record(name="scrub.ruled")
def ruled(kind: str) -> object:
    return RULED[kind][0]


@pytest.mark.parametrize("store", ["json", "msgpack"])
@pytest.mark.parametrize("kind", sorted(RULED))
def test_rules_reach_dict_keys_and_binary_bytes(tmp_path, store, kind):
    with apirec.recording(tmp_path, mode="record", store=store, scrub=[ACCOUNT]):
        assert ruled(kind) == RULED[kind][0]  # the caller gets the live answer
    with apirec.recording(tmp_path, mode="replay", store=store, scrub=[ACCOUNT]):
        assert ruled(kind) == RULED[kind][1]
    if store == "json":
        assert b"acct_" not in store_bytes(tmp_path)
