"""Microsoft Teams through a Workflows webhook: Adaptive Cards (1.4) built and checked here, posted by
`TeamsClient`. No Django: the portal passes URLs and facts in."""
