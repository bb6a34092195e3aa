#!/bin/sh
. "$top_srcdir/tests/lib/sh-helpers.sh"
skip "not written yet"
