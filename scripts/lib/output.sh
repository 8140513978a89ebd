# Output helpers shared by scripts/demo.sh and scripts/setup.sh (sourced, not run).
# Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org).

use_colour() { [ -t 1 ] && [ -z "${NO_COLOR:-}" ] && [ "${TERM:-}" != "dumb" ]; }

# A section heading, bold on a terminal.
section() {
  if use_colour; then printf '\n\033[1m=== %s ===\033[0m\n' "$1"; else printf '\n=== %s ===\n' "$1"; fi
}

# What a script is doing, on stderr, so a slow step is never silence.
say() { printf '%s\n' "$*" >&2; }

# cut_diff LIMIT: copy a unified diff from stdin, stopping at the first file or
# hunk boundary after LIMIT lines (never in the middle of a hunk), and say how
# much was left out.
cut_diff() {
  awk -v limit="$1" '
    /^--- / || /^@@ / { if (shown >= limit) { cut = 1 } }
    cut { left++; next }
    { print; shown++ }
    END { if (left) printf "… (%d more diff lines left out; run the command yourself for all of it)\n", left }
  '
}
