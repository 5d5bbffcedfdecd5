"""A local fake of Azure for ACR access: Entra tokens, Resource Manager, Microsoft Graph and the
registry token service, on loopback HTTPS, backed by SQLite.

It imports nothing of the console's Azure layer: the only thing it shares with the rest of the
package is the built-in role data (`acr_console.roles`). Its contract is the public REST API
reference, so unmodified Azure clients work against it.
"""
