"""A small C++ refactoring engine on tree-sitter-cpp. It knows nothing about any one migration or tt-metal:
parse, query, resolve names in scope, build non-overlapping byte edits, render templates, deliver."""
