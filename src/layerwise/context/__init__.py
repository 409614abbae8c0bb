"""The build context: what ``docker build`` sends, as BuildKit sees it.

- :mod:`.ignore` reads and matches ``.dockerignore`` (a port of moby/patternmatcher) and picks
  the file BuildKit uses (``<Dockerfile>.dockerignore`` beside the Dockerfile first).
- :mod:`.snapshot` takes a snapshot of the context: what COPY checksums see (type, mode,
  size, sha256, link target) per :mod:`.entry`, a persistent stat cache, ``select``, ``diff``;
  :mod:`.walk` is its walk with fsutil's filter semantics, split over processes when big.
- :mod:`.files` is the model of the files Docker sees that ``explain`` simulates with: a
  state is a view of a snapshot plus an overlay (a revision's tracked paths put back, by
  :mod:`.states`), a COPY selection a view of a state, and content digests per folder
  (Merkle, as BuildKit's ``contenthash``), or for two states of one snapshot, of what they
  change.
- :mod:`.report` summarises a snapshot: size, exclusions, heaviest folders, Python junk,
  secrets, and ignore patterns that only match at the root.
- :mod:`.gopath` and :mod:`.re2` are the Go ``filepath`` and ``regexp`` behaviour these need.
"""
