def extract_llm(*a, **k):
    raise NotImplementedError


class LlmError(Exception):
    pass
