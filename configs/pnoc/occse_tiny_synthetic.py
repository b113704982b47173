# Tiny OC-CSE on the synthetic set: class-specific erasing against the
# frozen vanilla classifier, no puzzle terms.
_base_ = ['./poc_tiny_synthetic.py']
model = dict(type='OCCSE')
