"""The directive ``study-findings``: the study's answers, read from the committed tables at
build time (:func:`bnnet.report.findings.findings`), never typed into a page.

```{study-findings}
```

renders the Markdown lines of that function inside ``<div class="bnnet-findings">``; the
page is rebuilt when one of the tables changes.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from bnnet.report.display import STUDY_RESULTS
from bnnet.report.findings import TABLES, findings


class StudyFindings(SphinxDirective):
    has_content = False

    def run(self) -> list[nodes.Node]:
        for name in TABLES:
            self.env.note_dependency(str(STUDY_RESULTS / f"{name}.csv"))
        box = nodes.container(classes=["bnnet-findings"])
        box += self.parse_text_to_nodes("\n".join(findings(STUDY_RESULTS)))
        return [box]


def setup(app: Sphinx) -> dict:
    app.add_directive("study-findings", StudyFindings)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
