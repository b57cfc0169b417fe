"""The API reference under the names a user types: ``bnnet.fit``, not
``bnnet.core.train.fit``.

The functions and classes that ``bnnet`` exports (its ``__all__``) each get a page of their
own under their public name (``api/index.md``'s autosummary); the module pages leave them
out (``_templates/autosummary/module.rst`` reads :func:`public_names` through
``autosummary_context``) and say where they are (:func:`point_to_public_pages`). A
reference to the defining module's name (``:class:`~bnnet.core.config.Config```, a type
hint ``config: Config`` of a signature) then has no target of its own: :func:`resolve`
sends it to the public page.
"""

from __future__ import annotations

import inspect

from docutils import nodes
from sphinx.application import Sphinx

import bnnet


def public_objects() -> dict[str, str]:
    """``{"bnnet.core.train.fit": "bnnet.fit", ...}``: each function and class of
    ``bnnet.__all__`` by the full name of its definition."""
    found = {}
    for name in bnnet.__all__:
        obj = getattr(bnnet, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            found[f"{obj.__module__}.{obj.__qualname__}"] = f"bnnet.{name}"
    return found


PUBLIC = public_objects()


def public_names() -> dict[str, list[str]]:
    """``{"bnnet.core.train": ["fit", "Result", ...]}``: per module, the names its page
    leaves to the public pages."""
    by_module: dict[str, list[str]] = {}
    for internal in PUBLIC:
        module, name = internal.rsplit(".", 1)
        by_module.setdefault(module, []).append(name)
    return by_module


def public_target(target: str, module: str | None = None,
                  cls: str | None = None) -> str | None:
    """The public name of a reference's target (as written, or relative to the module and
    class it was written in), or ``None`` when it is not one of the public objects."""
    candidates = [target]
    if module:
        candidates.append(f"{module}.{target}")
        if cls:
            candidates.append(f"{module}.{cls}.{target}")
    for candidate in candidates:
        for internal, public in PUBLIC.items():
            if candidate == internal or candidate.startswith(internal + "."):
                return public + candidate[len(internal):]
    return None


#: ``{"bnnet.fit": "bnnet.core.train", ...}``: the module that defines each public object.
HOMES = {public: internal.rsplit(".", 1)[0] for internal, public in PUBLIC.items()}


def resolve(app: Sphinx, env, node: nodes.Element, contnode: nodes.Element):
    """``missing-reference``: a Python reference to a public object's internal name, resolved
    to its public page; on a public object's page, a name relative to the module that
    defines it (``:data:`STEPS``` in ``bnnet.fit``'s docstring) resolved there."""
    if node.get("refdomain") != "py":
        return None
    target = public_target(node["reftarget"], node.get("py:module"), node.get("py:class"))
    home = HOMES.get(node["refdoc"].rsplit("/", 1)[-1])
    if target is None and home is not None:
        relative = f"{home}.{node['reftarget']}"
        target = public_target(relative) or relative
    if target is None:
        return None
    return env.get_domain("py").resolve_xref(env, node["refdoc"], app.builder,
                                             node["reftype"], target, node, contnode)


def point_to_public_pages(app: Sphinx, what: str, name: str, obj, options,
                          lines: list[str]) -> None:
    """``autodoc-process-docstring``: a module page whose public objects are documented
    elsewhere says so at the end of the module's description, before its members."""
    names = public_names().get(name) if what == "module" else None
    if names:
        links = ", ".join(f":py:obj:`bnnet.{n}`" for n in names)
        lines.extend(["", ".. seealso::", "",
                      f"   Defined here, documented under the names ``bnnet`` exports: "
                      f"{links}.", ""])


def setup(app: Sphinx) -> dict:
    app.connect("missing-reference", resolve)
    app.connect("autodoc-process-docstring", point_to_public_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
