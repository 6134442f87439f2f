/* sk_assert.h: SK_ASSERT, the contract checks of the project's code (core, proto, server).
 *
 * SK_ASSERT(cond) checks an invariant that a header states (ring bounds, "session not busy",
 * epoch bounds): when the build has SPIKED_ASSERTS defined and cond is false, it prints the
 * expression, file, line and function to stderr and aborts. Without SPIKED_ASSERTS it
 * evaluates nothing (cond stays referenced inside sizeof, so it still compiles and names no
 * unused variable). The CMake option SPIKED_ASSERTS switches it for the project's targets:
 * ON in Debug and sanitizer builds whatever NDEBUG says (CMakeLists.txt); never for input
 * checks (a bad request gets an error, not an abort), only for what the code itself owes.
 */
#ifndef SPIKED_SK_ASSERT_H
#define SPIKED_SK_ASSERT_H

#ifdef __cplusplus
extern "C" {
#endif

/* Prints "spiked: assertion failed: expr (file:line, func)" to stderr and aborts. */
_Noreturn void sk_assert_fail(const char *expr, const char *file, int line, const char *func);

#ifdef SPIKED_ASSERTS
#define SK_ASSERT(cond) ((cond) ? (void)0 : sk_assert_fail(#cond, __FILE__, __LINE__, __func__))
#else
#define SK_ASSERT(cond) ((void)sizeof((cond) ? 1 : 0))
#endif

#ifdef __cplusplus
}
#endif

#endif
