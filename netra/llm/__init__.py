"""Model access: the chat model factory (OpenAI-compatible) and the offline switch.

`netra.llm.guard` keeps model calls behind the endpoint's circuit breaker (refusals apart),
`netra.llm.stream` streams model tokens to the run's progress events, `netra.llm.negotiate`
picks the structured-output method an endpoint serves, `netra.llm.budget` and
`netra.llm.tokens` fit each call to the endpoint's context, and `netra.llm.usage` /
`netra.llm.accounting` record, price and store what the model path cost.
"""

from netra.llm.factory import chat_model

__all__ = ["chat_model"]
