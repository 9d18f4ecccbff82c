"""Names fixed by the API and shared by every module of the operator."""

from __future__ import annotations

GROUP = "pipelines.evolved.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
KIND = "EvolvedPipeline"
PLURAL = "evolvedpipelines"
SINGULAR = "evolvedpipeline"
SHORT_NAME = "evp"
CATEGORY = "evolved"

FIELD_MANAGER = "evolved-operator"
MANAGED_BY = "evolved-operator"

LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
LABEL_PIPELINE = f"{GROUP}/pipeline"
LABEL_VARIANT = f"{GROUP}/variant"
ANNOTATION_APPLIED_HASH = f"{GROUP}/applied-hash"
ANNOTATION_CONTENT_HASH = f"{GROUP}/content-hash"
ANNOTATION_PROGRAM_HASH = f"{GROUP}/program-hash"
