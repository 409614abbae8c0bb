from tests.unit.rules.ci_helpers import catches, dedent, fixed, passes

CODE = "LW606"
GITLAB = dedent("""
variables:
  IMAGE: $CI_REGISTRY_IMAGE:latest
build:
  image: docker:27
  services: [docker:27-dind]
  script:
    - docker pull $IMAGE || true
    - docker build --cache-from $IMAGE -t $IMAGE .
    - docker push $IMAGE
""")


def test_cache_from_an_image_without_inline_metadata():
    (f,) = catches(CODE, {".gitlab-ci.yml": GITLAB})
    assert (f.line, f.column) == (8, 33)
    assert fixed(CODE, {".gitlab-ci.yml": GITLAB}, ".gitlab-ci.yml") == GITLAB.replace(
        "docker build --cache-from", "docker build --build-arg BUILDKIT_INLINE_CACHE=1 --cache-from"
    )


def test_with_inline_metadata_passes():
    passes(CODE, {".gitlab-ci.yml": GITLAB.replace("--cache-from", "--build-arg BUILDKIT_INLINE_CACHE=1 --cache-from")})


def test_templates_and_anchors_are_followed():
    gitlab = dedent("""
    .docker: &docker
      image: docker:27
      script:
        - docker build --cache-from $CI_REGISTRY_IMAGE -t $CI_REGISTRY_IMAGE .
    build:
      extends: .docker
    again:
      <<: *docker
    """)
    found = catches(CODE, {".gitlab-ci.yml": gitlab})
    assert {f.message.split("'")[1] for f in found} == {"build", "again"}
