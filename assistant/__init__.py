"""Public Value Assistant: grounded answers over public-sector governance and social value guidance.

Data flow: ``ingest`` writes chunks into Chroma → ``assistant.retrieval`` finds them → ``assistant.answer`` /
``assistant.drafting`` compose cited results → the ``pva`` CLI, ``app.py`` and ``evals`` call those same functions.
"""

from assistant.offline import enforce_offline

enforce_offline()
