"""Model builders: ``build(spec, fit_data) -> pm.Model``. No sampling happens here."""

from .densing import LARGE_FIT, build, latent_form

__all__ = ["LARGE_FIT", "build", "latent_form"]
