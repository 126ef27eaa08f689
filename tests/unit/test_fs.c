/* Paths resolved under another root, as the host resolves them: its absolute links
 * (/var/run -> /run) must lead back under that root, never to the caller's own. */
#include <errno.h>
#include <limits.h>

#include "helpers.h"

#include "util/fs.h"

struct root {
	char *dir;
};

static int setup(void **state)
{
	struct root *r = calloc(1, sizeof(*r));
	char path[PATH_MAX];

	r->dir = temp_dir();
	snprintf(path, sizeof(path), "%s/run/netns", r->dir);
	assert_int_equal(mkdir_p(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/var", r->dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/var/run", r->dir);
	assert_int_equal(symlink("/run", path), 0); /* absolute, as on the host */
	snprintf(path, sizeof(path), "%s/var/lock", r->dir);
	assert_int_equal(symlink("../run", path), 0);
	snprintf(path, sizeof(path), "%s/loop", r->dir);
	assert_int_equal(symlink("/loop", path), 0);
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct root *r = *state;
	temp_dir_remove(r->dir);
	free(r);
	return 0;
}

static void expect(const struct root *r, const char *path, const char *want_under_root)
{
	char out[PATH_MAX], want[PATH_MAX];

	snprintf(want, sizeof(want), "%s%s", r->dir, want_under_root);
	assert_int_equal(fs_resolve_under(r->dir, path, out, sizeof(out)), 0);
	assert_string_equal(out, want);
}

static void an_absolute_link_leads_back_under_the_root(void **state)
{
	expect(*state, "/var/run/netns/pod0", "/run/netns/pod0");
}

static void a_relative_link_is_followed_from_its_directory(void **state)
{
	expect(*state, "/var/lock/netns", "/run/netns");
}

static void dot_dot_never_climbs_above_the_root(void **state)
{
	expect(*state, "/../../var/run/../run/./netns", "/run/netns");
	expect(*state, "/..", "/");
}

static void missing_parts_are_kept_as_they_are(void **state)
{
	expect(*state, "/var/run/netns/not-there/x", "/run/netns/not-there/x");
	expect(*state, "/nothing/here", "/nothing/here");
}

static void a_link_loop_is_refused(void **state)
{
	struct root *r = *state;
	char out[PATH_MAX];

	assert_int_equal(fs_resolve_under(r->dir, "/loop/x", out, sizeof(out)), -ELOOP);
}

static void an_output_too_small_is_refused(void **state)
{
	struct root *r = *state;
	char out[8];

	assert_int_equal(fs_resolve_under(r->dir, "/var/run/netns", out, sizeof(out)), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(an_absolute_link_leads_back_under_the_root, setup, teardown),
		cmocka_unit_test_setup_teardown(a_relative_link_is_followed_from_its_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(dot_dot_never_climbs_above_the_root, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_parts_are_kept_as_they_are, setup, teardown),
		cmocka_unit_test_setup_teardown(a_link_loop_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(an_output_too_small_is_refused, setup, teardown),
	};
	return cmocka_run_group_tests_name("fs", tests, NULL, NULL);
}
