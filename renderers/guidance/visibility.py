"""Per-entity visibility of one frame: visible pixels, fraction of the silhouette, occluders."""

from __future__ import annotations

import numpy as np

from renderers.guidance import kernels
from renderers.guidance.backend import RayHits
from worldsim.guidance_frame import EntityVisibility
from worldsim.state import Trajectory


def entity_visibility(hits: RayHits, trajectory: Trajectory) -> list[EntityVisibility]:
    """Visibility of every entity whose silhouette meets the image, in entity-column order.

    Requires the backend to have filled ``hits.silhouettes`` (each entity cast alone). Where the
    entity's silhouette shows another entity, that entity is nearer (the nearest hit wins): it
    is an occluder. One compiled pass over each entity's window (``kernels.window_visibility``).
    """
    ids = [info.id for info in trajectory.entities]
    result = []
    for silhouette in sorted(hits.silhouettes, key=lambda s: s.column):
        y0, _, x0, _ = silhouette.rect
        occluding = np.zeros(len(ids), dtype=bool)
        total, visible, box_x0, box_y0, box_x1, box_y1 = kernels.window_visibility(
            hits.column, y0, x0, silhouette.hit, silhouette.column, occluding
        )
        if total == 0:
            continue
        result.append(
            EntityVisibility(
                entity_id=ids[silhouette.column],
                visible_pixels=int(visible),
                silhouette_pixels=int(total),
                visible_fraction=visible / total,
                bbox=(int(box_x0), int(box_y0), int(box_x1), int(box_y1)) if visible else None,
                occluders=sorted(ids[c] for c in np.flatnonzero(occluding).tolist()),
            )
        )
    return result
