"""Per-entity visibility of one frame: visible pixels, fraction of the silhouette, occluders."""

from __future__ import annotations

import numpy as np

from renderers.guidance.backend import RayHits
from worldsim.guidance_frame import EntityVisibility
from worldsim.state import Trajectory


def entity_visibility(hits: RayHits, trajectory: Trajectory) -> list[EntityVisibility]:
    """Visibility of every entity whose silhouette meets the image, in entity-column order.

    Requires the backend to have filled ``hits.silhouettes`` (each entity cast alone).
    """
    ids = [info.id for info in trajectory.entities]
    result = []
    for silhouette in sorted(hits.silhouettes, key=lambda s: s.column):
        total = int(np.count_nonzero(silhouette.hit))
        if total == 0:
            continue
        y0, y1, x0, x1 = silhouette.rect
        window = hits.column[y0:y1, x0:x1]
        own = window == silhouette.column
        visible = int(np.count_nonzero(own))
        bbox = None
        if visible:
            rows = np.flatnonzero(own.any(axis=1))
            cols = np.flatnonzero(own.any(axis=0))
            bbox = (int(x0 + cols[0]), int(y0 + rows[0]), int(x0 + cols[-1] + 1), int(y0 + rows[-1] + 1))
        # Where the entity's silhouette shows another entity, that entity is nearer (min over t).
        shown = window[silhouette.hit & ~own]
        others = np.flatnonzero(np.bincount(shown + 1, minlength=1)[1:]) if len(shown) else []
        occluders = sorted(ids[c] for c in others)
        result.append(
            EntityVisibility(
                entity_id=ids[silhouette.column],
                visible_pixels=visible,
                silhouette_pixels=total,
                visible_fraction=visible / total,
                bbox=bbox,
                occluders=occluders,
            )
        )
    return result
