/* Leases on disk: one JSON record per lease in the state directory, written
 * atomically (temp file, fsync, rename, fsync of the directory) on every change, so
 * a daemon killed at any moment finds each lease as it last was. */
#pragma once

#include <jansson.h>

/* Creates the directory (0700) if needed; -EPERM when it is not ours alone (another
 * owner, or writable by group or others). */
int state_init(const char *dir);
/* One daemon per directory: an flock on it, held while the returned fd is open;
 * -EWOULDBLOCK while another process holds it. */
int state_lock(const char *dir);
int state_save(const char *dir, const char *key, json_t *record);
/* Removing a record that is not there is success. */
int state_remove(const char *dir, const char *key);
/* Calls `fn` for each record that can be trusted: a regular file (opened without
 * following links or blocking), of a sane size, a JSON object named for its own key.
 * Others are logged and renamed aside (".bad"), neither lost nor acted on. */
int state_load_all(const char *dir, void (*fn)(json_t *record, void *ctx), void *ctx);
/* Moves every trusted record of `from` (another daemon's directory that is not in
 * use: it is locked while this runs) into `dir`, then removes `from` if it is empty.
 * A missing `from` is success. */
int state_take_over(const char *dir, const char *from);
