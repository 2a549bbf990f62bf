"""Azure OpenAI (v1 endpoint, the plain `openai` client): the support reply drafter."""
