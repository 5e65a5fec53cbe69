"""AWS's permission rules in localcloud: every call a deployed function or state machine makes is
authorized as its own role, with identity policies, resource policies and KMS key policies evaluated as
AWS documents it. See docs/iam-enforcement.md.

- ``policy``: the evaluation logic (pure: statements, wildcards, conditions, deny wins, key policies);
- ``requests``: which actions on which resources an API call needs;
- ``sam``: a template's ``Policies`` expanded as the SAM transform does;
- ``roles``: roles and policies created in moto's IAM;
- ``enforcer``: sessions per role, and the interceptor's authorizer (AccessDenied as each service says it);
- ``states_role``: Step Functions integrations signed with the state machine's role.
"""
