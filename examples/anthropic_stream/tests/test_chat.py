from chat import stream_reply


async def test_answer_streams_piece_by_piece(apirec, client):
    shown: list[str] = []
    reply = await stream_reply(client, "Should I use tabs or spaces?", show=shown.append)

    # the stream replays as it was recorded: the same pieces, in order, then the final message
    assert len(shown) == reply.pieces > 1
    assert "".join(shown) == reply.text
    assert reply.output_tokens > 0


async def test_each_question_has_its_own_recording(apirec, client):
    first = await stream_reply(client, "Is Python fast?", show=lambda _: None)
    second = await stream_reply(client, "Is Rust fast?", show=lambda _: None)
    assert first.text != second.text
