"""Model builders: ``build(spec, fit_data) -> pm.Model``. No sampling happens here."""

from .densing import build, latent_form

__all__ = ["build", "latent_form"]
