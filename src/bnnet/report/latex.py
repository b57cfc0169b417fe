"""Text into LaTeX: escaping, and the characters the PDF's text font has no glyphs for."""

from __future__ import annotations

import re

_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
            "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
            "^": r"\textasciicircum{}"}
_SPECIAL = re.compile("|".join(map(re.escape, _ESCAPES)))

#: Unicode characters and their LaTeX, for tables, captions and prose.
UNICODE_LATEX = {"±": r"$\pm$", "σ": r"$\sigma$", "λ": r"$\lambda$", "α": r"$\alpha$",
                 "ε": r"$\varepsilon$", "η": r"$\eta$", "γ": r"$\gamma$", "β": r"$\beta$",
                 "δ": r"$\delta$",
                 "₁₀": r"$_{10}$", "≈": r"$\approx$", "−": "-",
                 "–": "--", "×": r"$\times$", "≤": r"$\leq$", "≥": r"$\geq$",
                 "·": r"$\cdot$"}
#: The Greek letters among them: prose (Markdown) writes these as inline math, since the
#: PDF's text font has no glyphs for them; the other characters it prints as they are.
GREEK = "σλαεηγβδ"


def escape(text: str) -> str:
    """``text`` with LaTeX's special characters escaped (in one pass, so that the braces of
    ``\\textbackslash{}`` stay braces)."""
    return _SPECIAL.sub(lambda m: _ESCAPES[m.group(0)], text)


def to_latex(text: str) -> str:
    """Plain text (a title, a name) as LaTeX: special characters escaped, Greek letters and
    symbols the font lacks as math; other Unicode letters (Ö, é) kept."""
    return unicode_to_latex(escape(text))


def unicode_to_latex(text: str) -> str:
    """Every character of :data:`UNICODE_LATEX` replaced by its LaTeX."""
    for a, b in UNICODE_LATEX.items():
        text = text.replace(a, b)
    return text


def greek_to_math(text: str) -> str:
    """Greek letters outside ``$…$`` as inline math (Markdown that JupyterLab and the PDF
    render alike)."""
    pieces = re.split(r"(\$[^$]*\$)", text)
    for i in range(0, len(pieces), 2):  # even pieces are outside math
        for letter in GREEK:
            pieces[i] = pieces[i].replace(letter, UNICODE_LATEX[letter])
    return "".join(pieces)
