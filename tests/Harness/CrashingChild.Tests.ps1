# Not part of the suite (it lives outside tests/Pester on purpose): it shows what build.ps1 does when the Pester child
# dies mid-run, as it does when an unhandled exception reaches a thread-pool thread. The process aborts (exit 134)
# before tests/Invoke-PesterRun.ps1 writes its summary; build.ps1 must still print its closing line, count the crash
# as a failure and exit non-zero:
#   dotnet pwsh -NoProfile -File ./build.ps1 -Task Test -SkipXunit -SkipDependencies -TestPath tests/Harness/CrashingChild.Tests.ps1
#   ...
#   Pester: the child pwsh wrote no summary (exit code 134).
#   FAILED pester: the child pwsh ended with exit code 134 and wrote no summary (...)
#   Tests: 0 passed, 1 failed, 0 skipped          (exit code 1)
Describe 'A test run whose process dies' {
    It 'passes once' { 1 | Should -Be 1 }
    It 'then takes the whole pwsh down' { [Environment]::FailFast('simulated crash of the Pester child') }
}
