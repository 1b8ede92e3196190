"""Landmarks: the 5 points from the mesh, detections."""

from __future__ import annotations

import numpy as np
import pytest

from apd_lightning.faces import (
    FaceDetection,
    points5_from_mesh,
)


def test_points5_from_mesh_orders_by_image_x():
    mesh = np.zeros((478, 2))
    mesh[468], mesh[473] = (300, 100), (200, 102)  # iris centres given right-then-left
    mesh[4] = (250, 150)
    mesh[61], mesh[291] = (290, 200), (210, 201)
    points = points5_from_mesh(mesh)
    assert points.tolist() == [[200, 102], [300, 100], [250, 150], [210, 201], [290, 200]]
    with pytest.raises(ValueError, match="refined"):
        points5_from_mesh(np.zeros((468, 2)))


def test_face_detection_area():
    face = FaceDetection(np.zeros((5, 2)), (10.0, 20.0, 40.0, 60.0))
    assert face.area == 1200.0 and face.score is None and face.mesh is None
