import Report

await ReportCommand.runFromCommandLine()
