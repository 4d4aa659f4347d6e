/// The version `maintledger --version` prints, kept here only. A test checks that README.md's
/// "Set up" section shows the same line, so a release bumps both together. (SwiftPM has no
/// build-time hook short of a build-tool plugin running `git` on every build; a constant works
/// the same from a checkout, a tarball or a package cache.)
enum MaintLedgerVersion {
    static let number = "0.18.0"
}
