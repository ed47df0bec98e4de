#!/bin/sh
# amalgamate.sh imssec.c -- write the self-contained dist/imssec.c to stdout:
# every `#include "<module>/<file>.c"` (and module-private .h) line of
# imssec.c is replaced by that file's text.  A fragment's own
# `#include "../imssec.h"` becomes a comment: in the two-file drop the header
# is already included at the top.  No other change: the tree build and the
# drop are the same translation unit.
set -eu
awk '
function inline(f,    l, q, d) {
    print "/*** begin " f " ***/"
    while ((getline l < f) > 0) {
        if (l ~ /^#include "\.\.\/imssec\.h"/) { print "/* " l " */"; continue }
        if (l ~ /^#include "[a-z_0-9]+\.h"/) {           # module-private header
            split(l, q, "\""); d = f; sub(/[^\/]*$/, "", d); inline(d q[2]); continue
        }
        print l
    }
    close(f)
    print "/*** end " f " ***/"
}
/^#include "(core|aka|secagree|esp|sa|media)\/[a-z_0-9]+\.[ch]"/ { f = $2; gsub(/"/, "", f); inline(f); next }
{ print }
' "$1"
