import BerthctlCommands

await Berthctl.runMain()
