"""Drafting social value responses: request, guidance, commitments, composition, over-claim check, export."""
