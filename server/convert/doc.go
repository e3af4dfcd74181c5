// Package convert maps stored entities and their enum values to the API's
// messages. Enum values are stored under the proto value's name without its
// prefix ("SALES_REP" for EMPLOYEE_ROLE_SALES_REP), so the mapping is by
// name and cannot drift.
package convert
