package ldaptest

// Seed is the default directory: a service account (ReaderDN), people
// with password "<uid>-pass" (alice, bob; carol is marked
// "description: disabled"; twin1 and twin2 share the address
// twins@example.org; mallory sits outside ou=people), groups of both
// schemas: groupOfNames admins (alice) and staff (alice, bob), posixGroup
// developers (bob).
const Seed = `dn: dc=example,dc=org
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: cn=reader,dc=example,dc=org
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: reader
userPassword: reader-secret

dn: ou=people,dc=example,dc=org
objectClass: organizationalUnit
ou: people

dn: ou=groups,dc=example,dc=org
objectClass: organizationalUnit
ou: groups

dn: ou=former,dc=example,dc=org
objectClass: organizationalUnit
ou: former

dn: uid=alice,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: alice
cn: Alice Liddell
givenName: Alice
sn: Liddell
mail: alice@example.org
telephoneNumber: +441632960001
userPassword: alice-pass

dn: uid=bob,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: bob
cn: Bob Builder
givenName: Bob
sn: Builder
mail: bob@example.org
userPassword: bob-pass

dn: uid=carol,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: carol
cn: Carol Disabled
sn: Disabled
mail: carol@example.org
description: disabled
userPassword: carol-pass

dn: uid=twin1,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: twin1
cn: Twin One
sn: One
mail: twins@example.org
userPassword: twin1-pass

dn: uid=twin2,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: twin2
cn: Twin Two
sn: Two
mail: twins@example.org
userPassword: twin2-pass

dn: uid=mallory,ou=former,dc=example,dc=org
objectClass: inetOrgPerson
uid: mallory
cn: Mallory Former
sn: Former
userPassword: mallory-pass

dn: cn=admins,ou=groups,dc=example,dc=org
objectClass: groupOfNames
cn: admins
member: uid=alice,ou=people,dc=example,dc=org

dn: cn=staff,ou=groups,dc=example,dc=org
objectClass: groupOfNames
cn: staff
member: uid=alice,ou=people,dc=example,dc=org
member: uid=bob,ou=people,dc=example,dc=org

dn: cn=developers,ou=groups,dc=example,dc=org
objectClass: posixGroup
cn: developers
gidNumber: 5001
memberUid: bob
`
