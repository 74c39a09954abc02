/**
 * @file stub.h
 * @brief What an untouched starter-kit stub says: "not implemented: FN".
 *
 * A stub that returns a status returns -ENOSYS, which the tests print as
 * "not implemented". A stub that returns NULL or false has no status to
 * return, so it calls stub_not_implemented(__func__) first: that sets errno
 * to ENOSYS, keeps the detail "not implemented: FN" for stub_detail() (the
 * tests print it in their failure messages) and writes the same line to
 * stderr once per function and process, so the failing test's output names
 * the function a student has to write.
 *
 * The reference never calls it; a student deletes the call with the stub.
 *
 * **Thread safety.** The detail is per thread; the once-per-function memory
 * of stderr lines is shared and unlocked (a kit's stubs at worst say it twice).
 */
#ifndef SPRINT1_STUB_H
#define SPRINT1_STUB_H

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Say that a starter kit's stub was called.
 * @param[in] fn  the function's name (__func__).
 */
void stub_not_implemented(const char *fn);

/**
 * @brief The detail the last stub of this thread set: "not implemented: FN",
 *        or "" when no stub was called.
 * @return a string owned by this file, valid until the thread's next stub call.
 */
const char *stub_detail(void);

#ifdef __cplusplus
}
#endif
#endif /* SPRINT1_STUB_H */
