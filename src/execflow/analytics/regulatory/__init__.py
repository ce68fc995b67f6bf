"""Regulatory reports from the event log (docs/compliance.md): SEC Rule 605 and 606(a), a
CAT-style order lifecycle export, a MiFIR RTS 22 transaction report subset, best execution.

Each report is a file with a schema shipped beside it (``schemas/``), and the tests validate
every generated file against it. Pure Python over the decoded log: values are ``Decimal`` at
these edges (never float), times ISO 8601 UTC."""
