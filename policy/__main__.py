"""The Meeshy policy pack: isolation and hygiene rules, enforced at `pulumi preview --policy-pack policy`."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the rules reuse components/

from pulumi_policy import (  # noqa: E402
    EnforcementLevel,
    PolicyPack,
    ResourceValidationPolicy,
    StackValidationPolicy,
)

from policy import rules  # noqa: E402
from policy.stack_files import stack_facts  # noqa: E402


def _resource_policy(name: str, rule) -> ResourceValidationPolicy:
    def validate(args, report_violation):
        res = rules.Res(args.resource_type, args.name, args.props, bool(args.opts.protect))
        for problem in rule(res, stack_facts(rules.stack_of_urn(args.urn))):
            report_violation(problem)
    return ResourceValidationPolicy(name=name, description=(rule.__doc__ or name).strip(),
                                    validate=validate)


def _validate_ports(args, report_violation):
    resources = [rules.Res(r.resource_type, r.name, r.props, bool(r.opts.protect)) for r in args.resources]
    if not args.resources:
        return
    facts = stack_facts(rules.stack_of_urn(args.resources[0].urn))
    for problem in rules.host_ports_isolated(resources, facts):
        report_violation(problem)


PolicyPack(
    name="meeshy-policies",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        *(_resource_policy(name, rule) for name, rule in rules.RESOURCE_RULES.items()),
        StackValidationPolicy(name="meeshy-host-ports-isolated",
                              description=rules.host_ports_isolated.__doc__.strip(),
                              validate=_validate_ports),
    ],
)
