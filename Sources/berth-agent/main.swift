import BerthAgentCommands

await BerthAgentCommand.runMain()
