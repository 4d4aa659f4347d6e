import MaintLedgerCLI

MaintLedger.runAndExit()
