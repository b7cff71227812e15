"""The git-backed config store (pygit2). No Flask, no environment reads."""
