/* Unit tests for core/config: INI text and files, typed getters with their
 * defaults, range clamping, boolean spellings, lists, command-line overrides, and
 * the two counters start-up reports (unused keys, type errors). */
#include "core/config.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

static sb_config *load(const char *text) {
  char *err = NULL;
  sb_config *cfg = sb_config_load_data(text, &err);
  if (cfg == NULL)
    g_error("config did not load: %s", err);
  g_assert_null(err);
  return cfg;
}

static void assert_string(sb_config *cfg, const char *section, const char *key, const char *def,
                          const char *expect) {
  char *v = sb_config_get_string(cfg, section, key, def);
  g_assert_cmpstr(v, ==, expect);
  g_free(v);
}

static void assert_list(char **list, const char *const *expect, guint n) {
  g_assert_nonnull(list);
  g_assert_cmpuint(g_strv_length(list), ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpstr(list[i], ==, expect[i]);
}

/* ---- loading ------------------------------------------------------------ */

static void test_config_load_data_reads_sections_and_keys(void) {
  sb_config *cfg = load("# a comment\n"
                        "[general]\n"
                        "name = switchboard\n"
                        "workers=4\n"
                        "\n"
                        "[http]\n"
                        "  # an indented comment\n"
                        "port = 8088\n");
  assert_string(cfg, "general", "name", "x", "switchboard");
  g_assert_cmpint(sb_config_get_int(cfg, "general", "workers", 1), ==, 4);
  g_assert_cmpint(sb_config_get_int(cfg, "http", "port", 1), ==, 8088);
  g_assert_null(sb_config_path(cfg));
  g_assert_cmpint(sb_config_errors(cfg), ==, 0);
  g_assert_cmpint(sb_config_warn_unused(cfg), ==, 0);
  sb_config_free(cfg);
}

static void test_config_malformed_data_gives_message(void) {
  char *err = NULL;
  g_assert_null(sb_config_load_data("key without a section = 1\n", &err));
  g_assert_nonnull(err);
  g_assert_cmpuint(strlen(err), >, 0);
  g_free(err);
  err = NULL;
  g_assert_null(sb_config_load_data("[general\nx=1\n", &err));
  g_assert_nonnull(err);
  g_free(err);
  /* A NULL error pointer is allowed. */
  g_assert_null(sb_config_load_data("garbage line\n", NULL));
}

static void test_config_load_file_records_path(void) {
  GError *gerr = NULL;
  char *dir = g_dir_make_tmp("sbconfig-XXXXXX", &gerr);
  g_assert_no_error(gerr);
  char *path = g_build_filename(dir, "switchboard.conf", NULL);
  g_assert_true(g_file_set_contents(path, "[media]\nrtp_min_port = 20000\n", -1, &gerr));
  char *err = NULL;
  sb_config *cfg = sb_config_load(path, &err);
  g_assert_nonnull(cfg);
  g_assert_null(err);
  g_assert_cmpstr(sb_config_path(cfg), ==, path);
  g_assert_cmpint(sb_config_get_int(cfg, "media", "rtp_min_port", 0), ==, 20000);
  sb_config_free(cfg);
  g_unlink(path);
  g_rmdir(dir);
  g_free(path);
  g_free(dir);
}

static void test_config_missing_file_gives_message(void) {
  char *err = NULL;
  const char *path = "/nonexistent/switchboard-test/none.conf";
  g_assert_null(sb_config_load(path, &err));
  g_assert_nonnull(err);
  /* The message names the file, so the user knows which one. */
  g_assert_nonnull(strstr(err, path));
  g_free(err);
}

static void test_config_new_is_empty_with_defaults(void) {
  sb_config *cfg = sb_config_new();
  assert_string(cfg, "a", "b", "dflt", "dflt");
  assert_string(cfg, "a", "b", NULL, NULL);
  g_assert_cmpint(sb_config_get_int(cfg, "a", "n", -7), ==, -7);
  g_assert_true(sb_config_get_bool(cfg, "a", "t", true));
  g_assert_false(sb_config_get_bool(cfg, "a", "f", false));
  g_assert_null(sb_config_get_list(cfg, "a", "l"));
  g_assert_null(sb_config_path(cfg));
  g_assert_cmpint(sb_config_errors(cfg), ==, 0);
  g_assert_cmpint(sb_config_warn_unused(cfg), ==, 0);
  sb_config_free(cfg);
}

/* ---- typed getters -------------------------------------------------------- */

static void test_config_absent_keys_use_defaults(void) {
  sb_config *cfg = load("[s]\nk = v\n");
  assert_string(cfg, "s", "other", "d", "d");
  assert_string(cfg, "nosection", "k", "d", "d");
  g_assert_cmpint(sb_config_get_int(cfg, "s", "n", 99), ==, 99);
  g_assert_false(sb_config_get_bool(cfg, "s", "b", false));
  g_assert_cmpint(sb_config_errors(cfg), ==, 0);
  sb_config_free(cfg);
}

static void test_config_strings_are_trimmed_and_unquoted(void) {
  sb_config *cfg = load("[s]\n"
                        "plain =   spaced value   \n"
                        "quoted = \"  keeps inner spaces \"\n"
                        "empty_quoted = \"\"\n"
                        "lone_quote = \"\n"
                        "half = \"open\n"
                        "inner = a \"b\" c\n"
                        "empty =\n");
  assert_string(cfg, "s", "plain", NULL, "spaced value");
  assert_string(cfg, "s", "quoted", NULL, "  keeps inner spaces ");
  assert_string(cfg, "s", "empty_quoted", "d", "");
  assert_string(cfg, "s", "lone_quote", NULL, "\"");
  assert_string(cfg, "s", "half", NULL, "\"open");
  assert_string(cfg, "s", "inner", NULL, "a \"b\" c");
  /* Present but empty is the empty string, not the default. */
  assert_string(cfg, "s", "empty", "d", "");
  g_assert_cmpint(sb_config_errors(cfg), ==, 0);
  sb_config_free(cfg);
}

static void test_config_integers_parse_or_count_an_error(void) {
  sb_config *cfg = load("[n]\n"
                        "pos = 42\n"
                        "neg = -17\n"
                        "hex = 0x10\n"
                        "big = 9223372036854775807\n"
                        "empty =\n"
                        "word = many\n"
                        "trailing = 12abc\n"
                        "float = 1.5\n"
                        "overflow = 99999999999999999999\n");
  g_assert_cmpint(sb_config_get_int(cfg, "n", "pos", 0), ==, 42);
  g_assert_cmpint(sb_config_get_int(cfg, "n", "neg", 0), ==, -17);
  g_assert_cmpint(sb_config_get_int(cfg, "n", "hex", 0), ==, 16);
  g_assert_cmpint(sb_config_get_int(cfg, "n", "big", 0), ==, G_MAXINT64);
  g_assert_cmpint(sb_config_errors(cfg), ==, 0);
  /* Empty means "use the default", not an error. */
  g_assert_cmpint(sb_config_get_int(cfg, "n", "empty", 5), ==, 5);
  g_assert_cmpint(sb_config_errors(cfg), ==, 0);
  /* Anything else that is not a whole integer: default, and one error each. */
  g_assert_cmpint(sb_config_get_int(cfg, "n", "word", 1), ==, 1);
  g_assert_cmpint(sb_config_get_int(cfg, "n", "trailing", 2), ==, 2);
  g_assert_cmpint(sb_config_get_int(cfg, "n", "float", 3), ==, 3);
  g_assert_cmpint(sb_config_get_int(cfg, "n", "overflow", 4), ==, 4);
  g_assert_cmpint(sb_config_errors(cfg), ==, 4);
  sb_config_free(cfg);
}

static void test_config_int_range_clamps_and_counts(void) {
  sb_config *cfg = load("[r]\nin = 50\nlow = -3\nhigh = 100000\nedge_lo = 1\nedge_hi = 65535\n"
                        "bad = lots\n");
  g_assert_cmpint(sb_config_get_int_range(cfg, "r", "in", 10, 1, 65535), ==, 50);
  g_assert_cmpint(sb_config_get_int_range(cfg, "r", "edge_lo", 10, 1, 65535), ==, 1);
  g_assert_cmpint(sb_config_get_int_range(cfg, "r", "edge_hi", 10, 1, 65535), ==, 65535);
  g_assert_cmpint(sb_config_get_int_range(cfg, "r", "absent", 10, 1, 65535), ==, 10);
  g_assert_cmpint(sb_config_errors(cfg), ==, 0);
  g_assert_cmpint(sb_config_get_int_range(cfg, "r", "low", 10, 1, 65535), ==, 1);
  g_assert_cmpint(sb_config_errors(cfg), ==, 1);
  g_assert_cmpint(sb_config_get_int_range(cfg, "r", "high", 10, 1, 65535), ==, 65535);
  g_assert_cmpint(sb_config_errors(cfg), ==, 2);
  /* Not an integer: the (in-range) default, counted once. */
  g_assert_cmpint(sb_config_get_int_range(cfg, "r", "bad", 10, 1, 65535), ==, 10);
  g_assert_cmpint(sb_config_errors(cfg), ==, 3);
  sb_config_free(cfg);
}

static void test_config_bool_accepts_common_spellings(void) {
  sb_config *cfg = load("[b]\n"
                        "t1 = true\nt2 = YES\nt3 = On\nt4 = 1\nt5 = True\n"
                        "f1 = false\nf2 = no\nf3 = OFF\nf4 = 0\nf5 = FALSE\n"
                        "empty =\n"
                        "maybe = maybe\n"
                        "two = 2\n");
  const char *trues[] = { "t1", "t2", "t3", "t4", "t5" };
  const char *falses[] = { "f1", "f2", "f3", "f4", "f5" };
  for (guint i = 0; i < G_N_ELEMENTS(trues); i++) {
    g_assert_true(sb_config_get_bool(cfg, "b", trues[i], false));
    g_assert_false(sb_config_get_bool(cfg, "b", falses[i], true));
  }
  g_assert_cmpint(sb_config_errors(cfg), ==, 0);
  g_assert_true(sb_config_get_bool(cfg, "b", "empty", true));
  g_assert_false(sb_config_get_bool(cfg, "b", "empty", false));
  g_assert_cmpint(sb_config_errors(cfg), ==, 0);
  g_assert_true(sb_config_get_bool(cfg, "b", "maybe", true));
  g_assert_false(sb_config_get_bool(cfg, "b", "two", false));
  g_assert_cmpint(sb_config_errors(cfg), ==, 2);
  sb_config_free(cfg);
}

static void test_config_list_splits_trims_and_drops_empty_items(void) {
  sb_config *cfg = load("[l]\n"
                        "plain = a,b,c\n"
                        "spaced =  x , y ,z  \n"
                        "holes = ,one,, ,two,\n"
                        "single = only\n"
                        "inner = with space, next\n"
                        "empty =\n"
                        "commas = , , ,\n");
  char **l = sb_config_get_list(cfg, "l", "plain");
  assert_list(l, (const char *const[]){ "a", "b", "c" }, 3);
  g_strfreev(l);
  l = sb_config_get_list(cfg, "l", "spaced");
  assert_list(l, (const char *const[]){ "x", "y", "z" }, 3);
  g_strfreev(l);
  l = sb_config_get_list(cfg, "l", "holes");
  assert_list(l, (const char *const[]){ "one", "two" }, 2);
  g_strfreev(l);
  l = sb_config_get_list(cfg, "l", "single");
  assert_list(l, (const char *const[]){ "only" }, 1);
  g_strfreev(l);
  l = sb_config_get_list(cfg, "l", "inner");
  assert_list(l, (const char *const[]){ "with space", "next" }, 2);
  g_strfreev(l);
  /* Present but empty: an empty list, distinct from absent (NULL). */
  l = sb_config_get_list(cfg, "l", "empty");
  assert_list(l, NULL, 0);
  g_strfreev(l);
  l = sb_config_get_list(cfg, "l", "commas");
  assert_list(l, NULL, 0);
  g_strfreev(l);
  g_assert_null(sb_config_get_list(cfg, "l", "absent"));
  g_assert_cmpint(sb_config_errors(cfg), ==, 0);
  sb_config_free(cfg);
}

/* ---- overrides ------------------------------------------------------------ */

static void test_config_override_replaces_and_adds_values(void) {
  sb_config *cfg = load("[http]\nport = 8088\n");
  char *err = NULL;
  g_assert_true(sb_config_set_override(cfg, "http.port=9000", &err));
  g_assert_null(err);
  g_assert_true(sb_config_set_override(cfg, "media.ice_servers=stun:a:3478,stun:b", &err));
  g_assert_true(sb_config_set_override(cfg, "general.expr=a=b", &err));
  g_assert_true(sb_config_set_override(cfg, "general.version=1.2.3", &err));
  g_assert_true(sb_config_set_override(cfg, "general.blank=", &err));
  g_assert_true(sb_config_set_override(cfg, "my section.my key=v", &err));
  g_assert_null(err);
  g_assert_cmpint(sb_config_get_int(cfg, "http", "port", 0), ==, 9000);
  char **l = sb_config_get_list(cfg, "media", "ice_servers");
  assert_list(l, (const char *const[]){ "stun:a:3478", "stun:b" }, 2);
  g_strfreev(l);
  /* The value is everything after the first '=', dots included. */
  assert_string(cfg, "general", "expr", NULL, "a=b");
  assert_string(cfg, "general", "version", NULL, "1.2.3");
  assert_string(cfg, "general", "blank", "d", "");
  assert_string(cfg, "my section", "my key", NULL, "v");
  /* A later override wins. */
  g_assert_true(sb_config_set_override(cfg, "http.port=9001", NULL));
  g_assert_cmpint(sb_config_get_int(cfg, "http", "port", 0), ==, 9001);
  sb_config_free(cfg);
}

static void test_config_malformed_overrides_are_rejected(void) {
  static const char *const bad[] = {
    "noequals",          /* no '=' */
    "http.port",         /* no '=' */
    "port=80",           /* no section */
    ".port=80",          /* empty section */
    "http.=80",          /* empty key */
    "=80",
    "http=a.b",          /* the dot is in the value */
    "",
    /* Names GKeyFile cannot hold: refused rather than silently dropped. */
    "http.port =80",     /* trailing space in the key */
    "http. port=80",     /* leading space in the key */
    "ht[tp.port=80",
    "http.po]rt=80",
    "http.port[x=80",
    "ht\ntp.port=80",
  };
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    sb_config *cfg = load("[http]\nport = 8088\n");
    char *err = NULL;
    if (sb_config_set_override(cfg, bad[i], &err))
      g_error("override '%s' was accepted", bad[i]);
    g_assert_nonnull(err);
    g_assert_cmpuint(strlen(err), >, 0);
    g_free(err);
    /* Nothing changed. */
    g_assert_cmpint(sb_config_get_int(cfg, "http", "port", 0), ==, 8088);
    g_assert_cmpint(sb_config_warn_unused(cfg), ==, 0);
    /* A NULL error pointer is allowed. */
    g_assert_false(sb_config_set_override(cfg, bad[i], NULL));
    sb_config_free(cfg);
  }
}

/* ---- start-up reports ------------------------------------------------------- */

static void test_config_unread_keys_are_counted_as_unused(void) {
  sb_config *cfg = load("[http]\nport = 1\nprot = 2\n[typo]\nx = 1\ny = 2\n");
  g_assert_cmpint(sb_config_get_int(cfg, "http", "port", 0), ==, 1);
  /* Asking for an absent key does not make a present one "read". */
  g_assert_cmpint(sb_config_get_int(cfg, "typo", "z", 0), ==, 0);
  g_assert_cmpint(sb_config_warn_unused(cfg), ==, 3);
  char **l = sb_config_get_list(cfg, "typo", "x");
  g_strfreev(l);
  g_assert_true(sb_config_get_bool(cfg, "typo", "y", true));
  g_assert_cmpint(sb_config_warn_unused(cfg), ==, 1);
  char *s = sb_config_get_string(cfg, "http", "prot", NULL);
  g_free(s);
  g_assert_cmpint(sb_config_warn_unused(cfg), ==, 0);
  /* An override of a key nobody reads is unused too. */
  g_assert_true(sb_config_set_override(cfg, "http.portt=5", NULL));
  g_assert_cmpint(sb_config_warn_unused(cfg), ==, 1);
  sb_config_free(cfg);
}

static void test_config_type_errors_are_counted(void) {
  sb_config *cfg = load("[t]\nn = ten\nb = perhaps\nr = 7\n");
  g_assert_cmpint(sb_config_errors(cfg), ==, 0);
  g_assert_cmpint(sb_config_get_int(cfg, "t", "n", 10), ==, 10);
  g_assert_cmpint(sb_config_errors(cfg), ==, 1);
  g_assert_false(sb_config_get_bool(cfg, "t", "b", false));
  g_assert_cmpint(sb_config_errors(cfg), ==, 2);
  g_assert_cmpint(sb_config_get_int_range(cfg, "t", "r", 1, 1, 5), ==, 5);
  g_assert_cmpint(sb_config_errors(cfg), ==, 3);
  /* A string getter never fails. */
  char *s = sb_config_get_string(cfg, "t", "n", NULL);
  g_assert_cmpstr(s, ==, "ten");
  g_free(s);
  g_assert_cmpint(sb_config_errors(cfg), ==, 3);
  /* Type errors still mark the key as read. */
  g_assert_cmpint(sb_config_warn_unused(cfg), ==, 0);
  sb_config_free(cfg);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/config/load-data-reads-sections-and-keys",
                  test_config_load_data_reads_sections_and_keys);
  g_test_add_func("/config/malformed-data-gives-message", test_config_malformed_data_gives_message);
  g_test_add_func("/config/load-file-records-path", test_config_load_file_records_path);
  g_test_add_func("/config/missing-file-gives-message", test_config_missing_file_gives_message);
  g_test_add_func("/config/new-is-empty-with-defaults", test_config_new_is_empty_with_defaults);
  g_test_add_func("/config/absent-keys-use-defaults", test_config_absent_keys_use_defaults);
  g_test_add_func("/config/strings-are-trimmed-and-unquoted",
                  test_config_strings_are_trimmed_and_unquoted);
  g_test_add_func("/config/integers-parse-or-count-an-error",
                  test_config_integers_parse_or_count_an_error);
  g_test_add_func("/config/int-range-clamps-and-counts", test_config_int_range_clamps_and_counts);
  g_test_add_func("/config/bool-accepts-common-spellings", test_config_bool_accepts_common_spellings);
  g_test_add_func("/config/list-splits-trims-and-drops-empty-items",
                  test_config_list_splits_trims_and_drops_empty_items);
  g_test_add_func("/config/override-replaces-and-adds-values",
                  test_config_override_replaces_and_adds_values);
  g_test_add_func("/config/malformed-overrides-are-rejected",
                  test_config_malformed_overrides_are_rejected);
  g_test_add_func("/config/unread-keys-are-counted-as-unused",
                  test_config_unread_keys_are_counted_as_unused);
  g_test_add_func("/config/type-errors-are-counted", test_config_type_errors_are_counted);
  return g_test_run();
}
