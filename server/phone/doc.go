// Package phone normalizes every phone number that enters Switchboard to
// E.164, the same way everywhere (SPEC §8), using a libphonenumber port: a
// message's sender, a contact imported from the CRM, any API field that
// takes a phone. One person is one normalized number, however it is written.
package phone
