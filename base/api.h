// KILN_API marks kiln's public C++ API: the classes and functions a program linking libkiln.so may
// call. Everything is compiled with hidden visibility (CMakeLists.txt), so in the shared build
// (-DBUILD_SHARED_LIBS=ON) only what carries this mark is exported; the static libraries ignore it.
// Exceptions and classes with virtual functions are marked as whole classes, so their type information
// is shared across the library boundary (a kiln::UsageError thrown inside libkiln.so is caught as one).
#pragma once

#define KILN_API __attribute__((visibility("default")))
