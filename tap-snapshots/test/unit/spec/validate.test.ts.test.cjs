/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`test/unit/spec/validate.test.ts > TAP > every problem is reported at once, by field path, with exit code 2 > must match snapshot 1`] = `
spec.invalid: pod.json: 9 problems
  apiVersion: must be "v1", not "v2"
  metadata.name: "Bad_Name" must be a DNS-1123 subdomain: lower case letters, digits, '-' and '.'
  spec.containers[0].command: must be a list of strings
  spec.containers[1].workingDir: "relative" must be an absolute path
  spec.containers[1].name: "a" is a duplicate: container names must be unique in the pod
  spec.containers[2].name: required
  spec.containers[2].env[0].name: "1BAD" must consist of letters, digits, '_', '-' or '.', and not start with a digit
  spec.terminationGracePeriodSeconds: must be an integer between 0 and 2147483648, not -1
  spec.shareProcessNamespace: must be true or false, not "yes"
`
