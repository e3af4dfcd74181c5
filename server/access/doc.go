// Package access owns SPEC §3, who may see and write a chat, as one pure
// function. Every RPC that reads or writes chats asks Decide; ListVisibleChats
// narrows its query with Scope, which is tested to agree with Decide.
package access
