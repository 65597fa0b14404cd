"""Streams being recorded and replayed (sync and async iterators, and SDK stream objects).

``recording`` wraps a live stream so the caller reads it while its chunks are kept, and stores
it when it ends; ``finishing`` keeps the streams a recording must finish and reads their rest
within a bound (or stores them truncated); ``replay`` rebuilds a stored stream chunk by
chunk, raising a recorded error where the live one did (or ``IncompleteRecording`` past the
end of a truncated one).

Layer: above ``apirec.keys``; it may import ``apirec.codec`` and ``apirec.errors`` (and the
layers below them), never the recorder: the recorder hands it a callback to store with.
"""
