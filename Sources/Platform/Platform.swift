// The C library and Foundation for every product target, chosen once here:
// - the C library of the platform (glibc, musl for a fully static Linux build, Darwin);
// - FoundationEssentials where it exists, not all of Foundation, whose ICU data would add tens of
//   megabytes to each image and to each service's memory (DeploymentTests/FoundationLinkTests).
// A target of its own because only a module can re-export another (`@_exported import`): a file
// inside each target would repeat this ladder once per target, and the `#if` in every file that
// calls `write`, `getenv` or `Date` is what this replaces. `import Platform` is the one line.

#if canImport(Glibc)
@_exported import Glibc
#elseif canImport(Musl)
@_exported import Musl
#elseif canImport(Darwin)
@_exported import Darwin
#endif

#if canImport(FoundationEssentials)
@_exported import FoundationEssentials
#else
@_exported import Foundation
#endif
