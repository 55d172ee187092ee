"""Model builders: ``build(spec, fit_data) -> pm.Model``. No sampling happens here."""

from .densing import build

__all__ = ["build"]
