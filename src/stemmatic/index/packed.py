"""A document's tokens packed into bytes, so that an index can store them.

Tracing against an index aligns the query with the few sources it shares the most
fingerprints with.  Tokenizing those sources again on every trace took most of a short
trace (about 0.8 s of CPU for 50 sources of 5,000 words); unpacking their stored tokens
takes a few milliseconds.

What is stored is what tokenizing cannot give back cheaply: each token's span, as the
gap since the previous token and its length, and each token's index into a vocabulary of
``(form, key)`` pairs (a key equal to its form is not repeated).  The ids and the
stop-word flags follow from the keys and the forms by the rules :mod:`stemmatic.normalize`
applies, and are computed again.  It is zlib-compressed (level 1), to about 0.85 bytes
per character of text.

An index refuses to open when this Stemmatic tokenizes its probe text differently from
the one that built it (:func:`~stemmatic.index.store.probe`), so stored tokens are the
tokens this Stemmatic would compute.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
import xxhash

from stemmatic.normalize import STOPWORDS, Tokens

_MAGIC = b"STK2"
# Stands for a key equal to its form.
SAME = "\x01"
# Magic, token count, vocabulary size, byte width of a vocabulary index.
_HEADER = struct.Struct("<4sIIB")


def pack(tokens: Tokens) -> bytes:
    """The tokens of a text as bytes (see the module docstring); the text is not included."""
    n = len(tokens)
    vocabulary: dict[tuple[str, str], int] = {}
    index = np.fromiter(
        (vocabulary.setdefault(pair, len(vocabulary)) for pair in zip(tokens.forms, tokens.keys)),
        dtype=np.uint32,
        count=n,
    )
    width = 2 if len(vocabulary) <= 0xFFFF else 4
    starts = tokens.starts.astype(np.int64)
    ends = tokens.ends.astype(np.int64)
    gaps = starts - np.concatenate(([0], ends[:-1]))
    # Forms, then keys, NUL-separated (no token holds a control character); a key that
    # is its form (a word the stemmer leaves alone) is stored as SAME.
    words = [form for form, _ in vocabulary]
    words += [SAME if key == form else key for form, key in vocabulary]
    body = b"".join(
        (
            gaps.astype("<u4").tobytes(),
            (ends - starts).astype("<u4").tobytes(),
            index.astype(f"<u{width}").tobytes(),
            "\x00".join(words).encode("utf-8", "surrogatepass"),
        )
    )
    return _HEADER.pack(_MAGIC, n, len(vocabulary), width) + zlib.compress(body, 1)


def unpack(text: str, data: bytes) -> Tokens:
    """The tokens :func:`pack` stored for ``text``.

    Raises:
        ValueError: ``data`` is not packed tokens, or they do not fit ``text``.
    """
    try:
        magic, n, size, width = _HEADER.unpack_from(data)
        if magic != _MAGIC or width not in (2, 4):
            raise ValueError("not packed tokens")
        body = zlib.decompress(data[_HEADER.size :])
        numbers = 4 * n * 2 + width * n
        gaps = np.frombuffer(body, dtype="<u4", count=n).astype(np.int64)
        lengths = np.frombuffer(body, dtype="<u4", count=n, offset=4 * n).astype(np.int64)
        index = np.frombuffer(body, dtype=f"<u{width}", count=n, offset=8 * n).astype(np.intp)
        words = body[numbers:].decode("utf-8", "surrogatepass").split("\x00") if size else []
    except (struct.error, zlib.error, UnicodeDecodeError) as exc:
        raise ValueError(f"damaged packed tokens ({exc})") from None
    if len(words) != 2 * size or (n and int(index.max()) >= size):
        raise ValueError("damaged packed tokens (vocabulary does not match)")
    ends = np.cumsum(gaps + lengths)
    starts = ends - lengths
    if n and int(ends[-1]) > len(text):
        raise ValueError("packed tokens do not fit the text")
    form_list = words[:size] or [""]
    key_list = [form if key == SAME else key for form, key in zip(form_list, words[size:])]
    key_list = key_list or [""]
    forms = np.array(form_list, dtype=object)
    keys = np.array(key_list, dtype=object)
    hashes = map(xxhash.xxh64_intdigest, map(str.encode, key_list))
    ids = np.fromiter(hashes, dtype=np.uint64, count=len(key_list))
    stop = np.fromiter(map(STOPWORDS.__contains__, form_list), dtype=bool, count=len(form_list))
    return Tokens(
        text,
        starts,
        ends,
        tuple(forms[index].tolist()),
        tuple(keys[index].tolist()),
        ids[index],
        stop[index],
    )
