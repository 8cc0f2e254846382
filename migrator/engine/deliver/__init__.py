"""Ways to hand a set of new file contents over: a diff, a `git am` patch, a branch, or the tree."""
