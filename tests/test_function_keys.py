"""Python functions passed as arguments (tools) are keyed by the schema an SDK derives from them.

ollama's ``chat(tools=[get_weather])`` and google-genai's ``config={"tools": [get_weather]}``
send the model a tool schema made of the function's name, docstring and annotated signature.
apirec keys such a call by the same: a function re-defined (the next test run, another
module) keeps the key; a changed docstring or signature changes it. The stored arguments
hold that schema, readable in the recording.
"""

from __future__ import annotations

import json
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

import apirec
from apirec.keys.spec import KeySpec


def key_and_stored(*args, **kwargs):
    spec = KeySpec(chat, name="chat")
    for_key, for_store = spec.canonical(spec.bind(None, args, kwargs))
    return spec.key(for_key, None), for_store


def chat(messages, tools=None, config=None):
    return "answer"


def make_weather(doc="Weather of a city.", *, extra_parameter=False):
    """A fresh function object each time, as a test defining its tool inline makes one."""
    if extra_parameter:

        def get_weather(city: str, unit: str = "C", days: int = 1) -> str:
            return "sunny"

    else:

        def get_weather(city: str, unit: str = "C") -> str:
            return "sunny"

    get_weather.__doc__ = doc
    return get_weather


def test_the_same_function_defined_again_keeps_its_key():
    first, second = make_weather(), make_weather()
    assert first is not second
    assert key_and_stored(["hi"], tools=[first])[0] == key_and_stored(["hi"], tools=[second])[0]


@pytest.mark.parametrize(
    "changed",
    [
        make_weather(doc="Weather of a town."),
        make_weather(extra_parameter=True),
    ],
    ids=["docstring", "signature"],
)
def test_a_changed_docstring_or_signature_changes_the_key(changed):
    assert (
        key_and_stored(["hi"], tools=[make_weather()])[0]
        != key_and_stored(["hi"], tools=[changed])[0]
    )


def test_annotations_and_name_are_part_of_the_key():
    def get_weather(city: int, unit: str = "C") -> str:
        """Weather of a city."""
        return "sunny"

    def get_forecast(city: str, unit: str = "C") -> str:
        """Weather of a city."""
        return "sunny"

    base = key_and_stored(["hi"], tools=[make_weather()])[0]
    assert key_and_stored(["hi"], tools=[get_weather])[0] != base
    assert key_and_stored(["hi"], tools=[get_forecast])[0] != base


def test_the_stored_arguments_hold_the_schema():
    _, stored = key_and_stored(["hi"], tools=[make_weather()])
    assert stored["tools"] == [
        {
            "python_function": {
                "name": "get_weather",
                "doc": "Weather of a city.",
                "parameters": [
                    {"name": "city", "annotation": "str"},
                    {"name": "unit", "annotation": "str", "default": "C"},
                ],
                "returns": "str",
            }
        }
    ]
    json.dumps(stored)  # plain data


def test_annotations_are_text_without_addresses():
    class Local:
        pass

    def search(query: str, sites: list[str] | None = None, where: Local | None = None):
        """Search the web."""

    (tool,) = key_and_stored(["hi"], tools=[search])[1]["tools"]
    parameters = tool["python_function"]["parameters"]
    assert parameters[0] == {"name": "query", "annotation": "str"}
    assert "list[str]" in parameters[1]["annotation"]
    assert "0x" not in json.dumps(tool)
    assert "returns" not in tool["python_function"]


def test_a_bound_method_is_keyed_like_its_function():
    class Tools:
        def lookup(self, word: str) -> str:
            """Look a word up."""
            return word

    (tool,) = key_and_stored(["hi"], tools=[Tools().lookup])[1]["tools"]
    assert tool["python_function"]["name"] == "lookup"
    assert [p["name"] for p in tool["python_function"]["parameters"]] == ["word"]


def test_functions_inside_pydantic_models_are_keyed_too():
    class Config(BaseModel):
        tools: list[typing.Any] = []
        temperature: float = 1.0

    first = key_and_stored(["hi"], config=Config(tools=[make_weather()], temperature=0.5))
    again = key_and_stored(["hi"], config=Config(tools=[make_weather()], temperature=0.5))
    changed = key_and_stored(["hi"], config=Config(tools=[make_weather("Other.")], temperature=0.5))
    assert first[0] == again[0] != changed[0]
    assert first[1]["config"]["tools"][0]["python_function"]["name"] == "get_weather"
    assert first[1]["config"]["temperature"] == 0.5


def test_lambdas_and_other_callables_are_still_refused():
    with pytest.raises(apirec.UnhashableArgument, match="function"):
        key_and_stored(["hi"], tools=[lambda city: "sunny"])
    with pytest.raises(apirec.UnhashableArgument):
        key_and_stored(["hi"], tools=[object()])


def test_record_and_patch_store_and_replay_calls_with_function_tools(tmp_path: Path):
    calls = []

    @apirec.record(name="agent.chat")
    def agent_chat(prompt, tools):
        calls.append(prompt)
        return f"used {tools[0].__name__}"

    with apirec.recording(tmp_path, mode="record"):
        assert agent_chat("weather?", [make_weather()]) == "used get_weather"
    (path,) = tmp_path.rglob("*.json")
    args = json.loads(path.read_text())["request"]["args"]
    assert args["tools"][0]["python_function"]["doc"] == "Weather of a city."

    with apirec.recording(tmp_path, mode="replay"):
        assert agent_chat("weather?", [make_weather()]) == "used get_weather"
        with pytest.raises(apirec.RecordingNotFound):
            agent_chat("weather?", [make_weather("Changed.")])
    assert calls == ["weather?"]


def test_evaluated_and_postponed_annotations_give_one_key():
    # this module postpones annotations (strings); most user modules do not (types)
    namespace: dict = {}
    source = (
        "def get_weather(city: str, unit: str = 'C') -> str:\n"
        "    'Weather of a city.'\n"
        "    return 'sunny'\n"
    )
    exec(compile(source, "<tools>", "exec", dont_inherit=True), namespace)
    evaluated = namespace["get_weather"]
    assert evaluated.__annotations__["city"] is str
    assert (
        key_and_stored(["hi"], tools=[evaluated])[0]
        == key_and_stored(["hi"], tools=[make_weather()])[0]
    )


def test_a_model_holding_a_value_with_no_canonical_form_names_it():
    class Config(BaseModel):
        tools: list[typing.Any] = []

    with pytest.raises(apirec.UnhashableArgument, match=r"builtins\.object") as info:
        key_and_stored(["hi"], config=Config(tools=[make_weather(), object()]))
    assert info.value.parameter == "config"


def recipe_model(vegan_field=False):
    """A fresh model class each time, with or without one more field."""
    if vegan_field:

        class Recipe(BaseModel):
            name: str
            minutes: int
            vegan: bool

    else:

        class Recipe(BaseModel):
            name: str
            minutes: int

    return Recipe


def test_types_given_as_response_schemas_are_keyed_by_their_json_schema():
    def key(schema):
        return key_and_stored(["hi"], config={"response_schema": schema})

    first_key, stored = key(recipe_model())
    schema = stored["config"]["response_schema"]
    assert schema["python_type"] == f"{__name__}.recipe_model.<locals>.Recipe"
    assert schema["json_schema"]["required"] == ["name", "minutes"]
    assert key(recipe_model())[0] == first_key  # the class defined again
    assert key(recipe_model(vegan_field=True))[0] != first_key
    assert key(list[recipe_model()])[0] != first_key
    assert key(list[recipe_model()])[1]["config"]["response_schema"]["python_type"].startswith(
        "list["
    )

    class Config(BaseModel):
        response_schema: typing.Any = None

    in_model = key_and_stored(["hi"], config=Config(response_schema=recipe_model()))[1]
    assert in_model["config"]["response_schema"] == schema


AGENT_CALLS: list[str] = []


def agent_step(prompt, tools):
    """Stands for SDK code taking tools, patched with rec.patch."""
    AGENT_CALLS.append(prompt)
    return f"{prompt} with {tools[0].__name__}"


def test_rec_patch_keys_function_tools_too(tmp_path: Path):
    AGENT_CALLS.clear()
    with apirec.recording(tmp_path, mode="record") as rec:
        rec.patch(f"{__name__}.agent_step", name="agent.step")
        assert agent_step("weather?", [make_weather()]) == "weather? with get_weather"
    with apirec.recording(tmp_path, mode="replay") as rec:
        rec.patch(f"{__name__}.agent_step", name="agent.step")
        assert agent_step("weather?", [make_weather()]) == "weather? with get_weather"
        with pytest.raises(apirec.RecordingNotFound):
            agent_step("weather?", [make_weather("Changed.")])
    assert AGENT_CALLS == ["weather?"]
