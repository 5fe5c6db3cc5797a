"""Model access: the chat model factory (OpenAI-compatible) and the offline switch.

`netra.llm.guard` keeps model calls behind the endpoint's circuit breaker and
`netra.llm.stream` streams model tokens to the run's progress events.
"""

from netra.llm.factory import chat_model

__all__ = ["chat_model"]
