"""Stands for an SDK generated like openai's (anthropic, groq, together...), unknown to apirec.

Its ``_types`` defines the not-given sentinels the way those SDKs do; ``_utils`` has
pydantic-ai's kind (a bare ``Unset`` class); ``resources`` a method using them as defaults.
"""
